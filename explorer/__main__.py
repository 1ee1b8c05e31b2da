"""``python -m explorer``: the same as the ``gan-explorer`` command."""

from explorer.app import main

if __name__ == "__main__":
    main()
