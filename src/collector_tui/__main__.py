from collector_tui.cli import main

raise SystemExit(main())
