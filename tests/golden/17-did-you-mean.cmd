$REDIRC check tests/golden/files/typos.redir; $REDIRC compile examples/site.redir --target ngnix -o x; $REDIRC chek examples/site.redir; $REDIRC check examples/site.redir -Wno-shadowd
