"""FairDesk: turn a risk score into decisions, fairly across groups, offline."""

import logging as _logging

__version__ = "0.1.0"

# Library practice: FairDesk's log lines go to the log file the window or the command line
# sets up, never to stderr through Python's last-resort handler when none is set up.
_logging.getLogger("fairdesk").addHandler(_logging.NullHandler())
