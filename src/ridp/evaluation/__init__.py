"""Pilot design, power, assignment, frozen analysis plans and estimators (issues 9 and 10).

Part of the analytical core: Ibis tables in, frozen results out; never imports Django.
"""
