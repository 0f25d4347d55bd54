
# Destinations from ~/.ssh/config and known_hosts (added by rmosh to clap's script).
_rmosh_with_hosts() {
    local ret=1
    _rmosh "$@" && ret=0
    if [[ $PREFIX != -* ]]; then
        local -a hosts
        hosts=(${(f)"$(rmosh complete-hosts 2>/dev/null)"})
        if [[ $PREFIX == *@* ]]; then
            compadd -P "${PREFIX%%@*}@" -a hosts && ret=0
        else
            compadd -a hosts && ret=0
        fi
    fi
    return ret
}
compdef _rmosh_with_hosts rmosh
