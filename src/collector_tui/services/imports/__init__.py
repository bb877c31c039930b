"""Imports: placement and payment files from clients and banks."""
