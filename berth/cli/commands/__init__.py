"""The commands of `berth`, one module per family, imported lazily by berth.cli.main."""
