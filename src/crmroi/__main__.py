"""`python -m crmroi` runs the command line."""

from crmroi.cli import main

if __name__ == "__main__":  # not when a worker process (spawn) imports it
    main()
