"""Views, one module per area. Each parses input, calls one workspace function, renders."""
