$REDIRC explain examples/site.redir "$(printf '/old-pricing?a=1\tforged\t301')" "$(printf '/x\nforged\tpass')" '/back\slash' "$(printf '/c1\302\233x/caf\303\251/\377')" 2>&1 | od -c | sed 's/  */ /g'
