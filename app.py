"""Hugging Face Spaces entry point (see the front matter in README.md).

Spaces runs ``python app.py`` after installing requirements.txt. Locally, use ``gan-explorer``.
"""

from explorer.launcher import main

if __name__ == "__main__":
    main(["--host", "0.0.0.0", "--port", "7860"])
