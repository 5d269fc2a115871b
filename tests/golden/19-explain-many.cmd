seq 1 5000 | sed "s|^|/many/|" | $REDIRC explain examples/site.redir - --today 2026-11-26 | wc -l
