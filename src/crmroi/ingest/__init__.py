"""Importing CRM exports: readers, value parsers, mappings and rejects."""
