"""python -m qa: the same as the qa command."""

from qa.cli import main

main()
