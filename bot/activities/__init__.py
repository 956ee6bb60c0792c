"""Duty activities (会议、调研、视察…): notices, answers and leave, check-in, attendance into the duty record."""
