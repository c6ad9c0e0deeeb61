"""Exit codes shared by every subcommand (../shared/docs/style.md §11)."""

EXIT_OK = 0
EXIT_FINDINGS = 1
EXIT_BAD_INPUT = 2
EXIT_INTERNAL = 3
#: An external engine (TotalSegmentator) crashed or was killed, e.g. out of memory; nothing was written.
EXIT_ENGINE = 4
EXIT_INTERRUPTED = 130
