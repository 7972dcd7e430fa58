"""Tracing seized, found and surrendered weapons (ISACS 05.31, ITI): steps, exceptions, trace requests out and in."""
