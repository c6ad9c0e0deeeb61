"""The ``oarcontour`` command line: one module per subcommand."""
