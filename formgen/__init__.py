"""formgen: 办事指南 booklets and forms for medical-insurance bureaus, from structured data."""

__version__ = "0.1.0"
