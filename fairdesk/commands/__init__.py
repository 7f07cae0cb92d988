"""One module per engine subcommand; each registers itself with fairdesk.cli.subcommand."""
