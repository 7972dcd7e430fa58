"""Roadmap reports: KPIs computed from the records, charts, half-year and yearly reports, exports."""
