import sys

from redaction.cli import main

sys.exit(main())
