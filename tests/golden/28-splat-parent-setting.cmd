$REDIRC check tests/golden/files/splat-parent-bad.redir
