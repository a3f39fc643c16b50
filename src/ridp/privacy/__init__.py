"""Suppression of small counts and export safety.

Part of the analytical core: Ibis tables in, frozen results out; never imports Django.
"""
