
# Destinations from ~/.ssh/config and known_hosts (added by rmosh to clap's script).
_rmosh_with_hosts() {
    _rmosh "$@"
    local cur="${COMP_WORDS[COMP_CWORD]}" prev="${COMP_WORDS[COMP_CWORD-1]}"
    case "$cur" in -*) return ;; esac
    case "$prev" in
        -p|--port|--ssh-port|-F|-l|-i|-o|--ssh-option|--server|--client|--predict|--bind-server|--family|--deploy|--ssh|-J) return ;;
    esac
    local user=""
    if [[ $cur == *@* ]]; then user="${cur%%@*}@"; cur="${cur#*@}"; fi
    local IFS=$'\n'
    COMPREPLY+=( $(compgen -P "$user" -W "$(rmosh complete-hosts 2>/dev/null)" -- "$cur") )
}
complete -F _rmosh_with_hosts -o nosort -o bashdefault -o default rmosh
