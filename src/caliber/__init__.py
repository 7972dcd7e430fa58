"""Caliber: the custody record of surplus small arms, light weapons and ammunition from intake to witnessed destruction."""
