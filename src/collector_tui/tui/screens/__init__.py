"""Screens: login, queue, case, search, help and the modal forms."""
