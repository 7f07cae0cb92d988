"""FairDesk: turn a risk score into decisions, fairly across groups, offline."""

__version__ = "0.1.0"
