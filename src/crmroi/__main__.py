"""`python -m crmroi` runs the command line."""

from crmroi.cli import main

main()
