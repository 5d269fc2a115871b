# bash completion for redirc(1)
_redirc()
{
	local cur prev words cword
	_init_completion 2>/dev/null || {
		cur=${COMP_WORDS[COMP_CWORD]}
		prev=${COMP_WORDS[COMP_CWORD-1]}
		words=("${COMP_WORDS[@]}")
		cword=$COMP_CWORD
	}
	local commands="check test explain compile lookup help"
	local common="-Werror --max-errors --diagnostics-format --today -q --quiet --verbose --help"
	if [ "$cword" -eq 1 ]; then
		COMPREPLY=($(compgen -W "$commands --help --version" -- "$cur"))
		return
	fi
	case "$prev" in
	--target)
		COMPREPLY=($(compgen -W "$(redirc help compile 2>/dev/null | sed -n '/^targets:/,$ s/^  \([a-z]*\) .*/\1/p')" -- "$cur"))
		return ;;
	--diagnostics-format)
		COMPREPLY=($(compgen -W "text json sarif" -- "$cur")); return ;;
	--format)
		COMPREPLY=($(compgen -W "text json" -- "$cur")); return ;;
	-o|--output|--map-dir)
		COMPREPLY=($(compgen -f -- "$cur")); return ;;
	--today|--host|--max-errors)
		return ;;
	esac
	local opts
	case "${words[1]}" in
	check|test) opts="$common" ;;
	explain) opts="$common --host --format --flatten" ;;
	compile) opts="$common --target -o --output --map-dir --flatten" ;;
	lookup) opts="--host --format --help" ;;
	help) COMPREPLY=($(compgen -W "$commands" -- "$cur")); return ;;
	esac
	if [[ "$cur" == -* ]]; then
		COMPREPLY=($(compgen -W "$opts" -- "$cur"))
	else
		case "${words[1]}" in
		lookup) COMPREPLY=($(compgen -f -X '!*.redirdb' -- "$cur") $(compgen -d -- "$cur")) ;;
		*) COMPREPLY=($(compgen -f -X '!*.redir' -- "$cur") $(compgen -d -- "$cur")) ;;
		esac
	fi
}
complete -F _redirc redirc
