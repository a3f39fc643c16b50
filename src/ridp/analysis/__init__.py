"""Resident-impact analysis: service levels, places, disparities, trends (issues 7 and 8).

Part of the analytical core: Ibis tables in, frozen results out; never imports Django.
"""
