#compdef rmosh

autoload -U is-at-least

_rmosh() {
    typeset -A opt_args
    typeset -a _arguments_options
    local ret=1

    if is-at-least 5.2; then
        _arguments_options=(-s -S -C)
    else
        _arguments_options=(-s -C)
    fi

    local context curcontext="$curcontext" state line
    _arguments "${_arguments_options[@]}" : \
'-h[Print help]' \
'--help[Print help]' \
'-V[Print version]' \
'--version[Print version]' \
":: :_rmosh_commands" \
"*::: :->rmosh" \
&& ret=0
    case $state in
    (rmosh)
        words=($line[1] "${words[@]}")
        (( CURRENT += 1 ))
        curcontext="${curcontext%:*:*}:rmosh-command-$line[1]:"
        case $line[1] in
            (connect)
_arguments "${_arguments_options[@]}" : \
'-h[Print help]' \
'--help[Print help]' \
':destination -- `\[user@\]host` to log in to:_default' \
'*::command -- Command to run instead of the login shell:_default' \
&& ret=0
;;
(server)
_arguments "${_arguments_options[@]}" : \
'-h[Print help]' \
'--help[Print help]' \
'*::args -- Mosh server arguments (`new \[-s\] \[-c COLORS\] …`):_default' \
&& ret=0
;;
(client)
_arguments "${_arguments_options[@]}" : \
'-#+[Ignored\: the mosh wrapper'\''s original arguments, so \`ps\` shows them]:ARGS:_default' \
'-c[Print the number of colors \$TERM supports (as \`mosh-client -c\`) and exit]' \
'--colors[Print the number of colors \$TERM supports (as \`mosh-client -c\`) and exit]' \
'*-v[More diagnostics on stderr (repeatable)]' \
'-h[Print help]' \
'--help[Print help]' \
'::ip -- Server IP address (numeric, IPv4 or IPv6):_default' \
'::port -- Server UDP port:_default' \
&& ret=0
;;
(completions)
_arguments "${_arguments_options[@]}" : \
'-h[Print help]' \
'--help[Print help]' \
':shell -- The shell to generate completions for:(bash elvish fish powershell zsh)' \
&& ret=0
;;
(help)
_arguments "${_arguments_options[@]}" : \
":: :_rmosh__subcmd__help_commands" \
"*::: :->help" \
&& ret=0

    case $state in
    (help)
        words=($line[1] "${words[@]}")
        (( CURRENT += 1 ))
        curcontext="${curcontext%:*:*}:rmosh-help-command-$line[1]:"
        case $line[1] in
            (connect)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(server)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(client)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(completions)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(help)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
        esac
    ;;
esac
;;
        esac
    ;;
esac
}

(( $+functions[_rmosh_commands] )) ||
_rmosh_commands() {
    local commands; commands=(
'connect:Log in with SSH, start a server on the host and attach to it' \
'server:Run the server (as \`mosh-server\` does)' \
'client:Run only the client against a running server (key in MOSH_KEY)' \
'completions:Print a shell completion script' \
'help:Print this message or the help of the given subcommand(s)' \
    )
    _describe -t commands 'rmosh commands' commands "$@"
}
(( $+functions[_rmosh__subcmd__client_commands] )) ||
_rmosh__subcmd__client_commands() {
    local commands; commands=()
    _describe -t commands 'rmosh client commands' commands "$@"
}
(( $+functions[_rmosh__subcmd__completions_commands] )) ||
_rmosh__subcmd__completions_commands() {
    local commands; commands=()
    _describe -t commands 'rmosh completions commands' commands "$@"
}
(( $+functions[_rmosh__subcmd__connect_commands] )) ||
_rmosh__subcmd__connect_commands() {
    local commands; commands=()
    _describe -t commands 'rmosh connect commands' commands "$@"
}
(( $+functions[_rmosh__subcmd__help_commands] )) ||
_rmosh__subcmd__help_commands() {
    local commands; commands=(
'connect:Log in with SSH, start a server on the host and attach to it' \
'server:Run the server (as \`mosh-server\` does)' \
'client:Run only the client against a running server (key in MOSH_KEY)' \
'completions:Print a shell completion script' \
'help:Print this message or the help of the given subcommand(s)' \
    )
    _describe -t commands 'rmosh help commands' commands "$@"
}
(( $+functions[_rmosh__subcmd__help__subcmd__client_commands] )) ||
_rmosh__subcmd__help__subcmd__client_commands() {
    local commands; commands=()
    _describe -t commands 'rmosh help client commands' commands "$@"
}
(( $+functions[_rmosh__subcmd__help__subcmd__completions_commands] )) ||
_rmosh__subcmd__help__subcmd__completions_commands() {
    local commands; commands=()
    _describe -t commands 'rmosh help completions commands' commands "$@"
}
(( $+functions[_rmosh__subcmd__help__subcmd__connect_commands] )) ||
_rmosh__subcmd__help__subcmd__connect_commands() {
    local commands; commands=()
    _describe -t commands 'rmosh help connect commands' commands "$@"
}
(( $+functions[_rmosh__subcmd__help__subcmd__help_commands] )) ||
_rmosh__subcmd__help__subcmd__help_commands() {
    local commands; commands=()
    _describe -t commands 'rmosh help help commands' commands "$@"
}
(( $+functions[_rmosh__subcmd__help__subcmd__server_commands] )) ||
_rmosh__subcmd__help__subcmd__server_commands() {
    local commands; commands=()
    _describe -t commands 'rmosh help server commands' commands "$@"
}
(( $+functions[_rmosh__subcmd__server_commands] )) ||
_rmosh__subcmd__server_commands() {
    local commands; commands=()
    _describe -t commands 'rmosh server commands' commands "$@"
}

if [ "$funcstack[1]" = "_rmosh" ]; then
    _rmosh "$@"
else
    compdef _rmosh rmosh
fi
