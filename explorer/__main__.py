"""``python -m explorer``: the same as the ``gan-explorer`` command."""

from explorer.launcher import main

if __name__ == "__main__":
    raise SystemExit(main())
