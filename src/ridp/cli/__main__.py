"""python -m ridp.cli: the same as the ridp command."""

from ridp.cli import main

main()
