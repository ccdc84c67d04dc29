from ltx_synth.cli import main

raise SystemExit(main())
