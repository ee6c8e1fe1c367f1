"""Imported district data: schools, terms, courses, sections, people, assignments and grades."""
