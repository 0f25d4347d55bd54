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
'-p+[Remote UDP port or range (PORT or PORT\:PORT2)]:PORT[:PORT2]:_default' \
'--port=[Remote UDP port or range (PORT or PORT\:PORT2)]:PORT[:PORT2]:_default' \
'--ssh-port=[SSH port (like \`ssh -p\`)]:PORT:_default' \
'-F+[SSH configuration file instead of ~/.ssh/config and /etc/ssh/ssh_config]:FILE:_files' \
'-l+[Remote user name (like \`ssh -l\`)]:USER:_default' \
'*-i+[Identity (private key) file; repeatable]:FILE:_files' \
'*-o+[SSH option in ssh_config syntax (\`Key=Value\`); repeatable]:KEY=VALUE:_default' \
'*--ssh-option=[SSH option in ssh_config syntax (\`Key=Value\`); repeatable]:KEY=VALUE:_default' \
'--server=[Remote server command (default\: rmosh, a deployed rmosh, or mosh-server)]:COMMAND:_default' \
'--client=[Client program to exec instead of this rmosh as mosh-client]:PATH:_default' \
'--predict=[Local echo mode]:PREDICT:((adaptive\:"Echo when the link is slow (the default)"
always\:"Always echo locally"
never\:"Never echo locally"
experimental\:"Echo aggressively"))' \
'--bind-server=[Where the server binds\: ssh (default), any, or an IP address]:ssh|any|IP:_default' \
'--family=[Address family for SSH and UDP]:FAMILY:((inet\:"IPv4 only"
inet6\:"IPv6 only"
auto\:"Whatever the connection used"
all\:"Like auto"
prefer-inet\:"Like auto (the wrapper'\''s fake proxy preference)"
prefer-inet6\:"Like auto"))' \
'--deploy=[Copy rmosh to the remote when it has no server (auto), always, or never]:DEPLOY:((auto\:"Only when the remote has neither rmosh nor mosh-server"
always\:"Always copy this binary and use it"
never\:"Never copy; fail if no server exists remotely"))' \
'--ssh=[Use this external ssh command instead of the built-in SSH client]:COMMAND:_default' \
'--transport=[How datagrams travel\: UDP, falling back to the SSH connection when UDP gets no reply (auto); UDP only; or the SSH connection only]:TRANSPORT:((auto\:"UDP, and the SSH connection when UDP gets no answer"
udp\:"UDP only (as Mosh)"
ssh\:"The SSH connection only"))' \
'--predict-overwrite[Predictions overwrite instead of insert]' \
'--no-init[Do not switch the terminal to the alternate screen]' \
'--local[Run the server on this machine, without SSH]' \
'-h[Print help (see more with '\''--help'\'')]' \
'--help[Print help (see more with '\''--help'\'')]' \
':destination -- `\[user@\]host` to log in to:_default' \
'*::command -- Command to run instead of the login shell:_default' \
&& ret=0
;;
(server)
_arguments "${_arguments_options[@]}" : \
'-h[Print help]' \
'--help[Print help]' \
":: :_rmosh__subcmd__server_commands" \
"*::: :->server" \
&& ret=0

    case $state in
    (server)
        words=($line[1] "${words[@]}")
        (( CURRENT += 1 ))
        curcontext="${curcontext%:*:*}:rmosh-server-command-$line[1]:"
        case $line[1] in
            (new)
_arguments "${_arguments_options[@]}" : \
'-i+[Local IP address to bind to (tried first; the wildcard address is the fallback)]:LOCALADDR:_default' \
'-p+[UDP port, or inclusive range, to bind \[default\: first free in 60001\:60999\]]:PORT[:PORT2]:_default' \
'-c+[Colours of the client terminal\: 256 sets TERM=xterm-256color, anything else TERM=xterm]:COLORS:_default' \
'*-l+[Locale setting to use when the native locale is not UTF-8 (repeatable)]:NAME=VALUE:_default' \
'*-@+[Ignored with its argument (lets scripts neutralize a word, as in Mosh)]:ARG:_default' \
'(-i)-s[Bind to the local address of the SSH connection (from SSH_CONNECTION)]' \
'*-v[Keep stdin/stdout/stderr open after detaching and log to stderr (repeatable)]' \
'-h[Print help]' \
'--help[Print help]' \
'*::command -- The command to run instead of your login shell (after `--`):_default' \
&& ret=0
;;
(help)
_arguments "${_arguments_options[@]}" : \
":: :_rmosh__subcmd__server__subcmd__help_commands" \
"*::: :->help" \
&& ret=0

    case $state in
    (help)
        words=($line[1] "${words[@]}")
        (( CURRENT += 1 ))
        curcontext="${curcontext%:*:*}:rmosh-server-help-command-$line[1]:"
        case $line[1] in
            (new)
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
(forward)
_arguments "${_arguments_options[@]}" : \
'--to=[The server'\''s address (default\: this host'\''s end of \`\$SSH_CONNECTION\`, where a server started with \`--bind-server=ssh\` listens; else 127.0.0.1)]:IP:_default' \
'-h[Print help]' \
'--help[Print help]' \
':port -- The server'\''s UDP port:_default' \
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
":: :_rmosh__subcmd__help__subcmd__server_commands" \
"*::: :->server" \
&& ret=0

    case $state in
    (server)
        words=($line[1] "${words[@]}")
        (( CURRENT += 1 ))
        curcontext="${curcontext%:*:*}:rmosh-help-server-command-$line[1]:"
        case $line[1] in
            (new)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
        esac
    ;;
esac
;;
(client)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(forward)
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
'forward:Relay framed datagrams on stdin/stdout to a server'\''s UDP port (the host end of \`--transport ssh\`, run by \`rmosh connect\`)' \
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
(( $+functions[_rmosh__subcmd__forward_commands] )) ||
_rmosh__subcmd__forward_commands() {
    local commands; commands=()
    _describe -t commands 'rmosh forward commands' commands "$@"
}
(( $+functions[_rmosh__subcmd__help_commands] )) ||
_rmosh__subcmd__help_commands() {
    local commands; commands=(
'connect:Log in with SSH, start a server on the host and attach to it' \
'server:Run the server (as \`mosh-server\` does)' \
'client:Run only the client against a running server (key in MOSH_KEY)' \
'forward:Relay framed datagrams on stdin/stdout to a server'\''s UDP port (the host end of \`--transport ssh\`, run by \`rmosh connect\`)' \
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
(( $+functions[_rmosh__subcmd__help__subcmd__forward_commands] )) ||
_rmosh__subcmd__help__subcmd__forward_commands() {
    local commands; commands=()
    _describe -t commands 'rmosh help forward commands' commands "$@"
}
(( $+functions[_rmosh__subcmd__help__subcmd__help_commands] )) ||
_rmosh__subcmd__help__subcmd__help_commands() {
    local commands; commands=()
    _describe -t commands 'rmosh help help commands' commands "$@"
}
(( $+functions[_rmosh__subcmd__help__subcmd__server_commands] )) ||
_rmosh__subcmd__help__subcmd__server_commands() {
    local commands; commands=(
'new:Start a session\: print \`MOSH CONNECT <port> <key>\`, detach, and wait up to 60 s for a client (Mosh'\''s \`mosh-server new\`)' \
    )
    _describe -t commands 'rmosh help server commands' commands "$@"
}
(( $+functions[_rmosh__subcmd__help__subcmd__server__subcmd__new_commands] )) ||
_rmosh__subcmd__help__subcmd__server__subcmd__new_commands() {
    local commands; commands=()
    _describe -t commands 'rmosh help server new commands' commands "$@"
}
(( $+functions[_rmosh__subcmd__server_commands] )) ||
_rmosh__subcmd__server_commands() {
    local commands; commands=(
'new:Start a session\: print \`MOSH CONNECT <port> <key>\`, detach, and wait up to 60 s for a client (Mosh'\''s \`mosh-server new\`)' \
'help:Print this message or the help of the given subcommand(s)' \
    )
    _describe -t commands 'rmosh server commands' commands "$@"
}
(( $+functions[_rmosh__subcmd__server__subcmd__help_commands] )) ||
_rmosh__subcmd__server__subcmd__help_commands() {
    local commands; commands=(
'new:Start a session\: print \`MOSH CONNECT <port> <key>\`, detach, and wait up to 60 s for a client (Mosh'\''s \`mosh-server new\`)' \
'help:Print this message or the help of the given subcommand(s)' \
    )
    _describe -t commands 'rmosh server help commands' commands "$@"
}
(( $+functions[_rmosh__subcmd__server__subcmd__help__subcmd__help_commands] )) ||
_rmosh__subcmd__server__subcmd__help__subcmd__help_commands() {
    local commands; commands=()
    _describe -t commands 'rmosh server help help commands' commands "$@"
}
(( $+functions[_rmosh__subcmd__server__subcmd__help__subcmd__new_commands] )) ||
_rmosh__subcmd__server__subcmd__help__subcmd__new_commands() {
    local commands; commands=()
    _describe -t commands 'rmosh server help new commands' commands "$@"
}
(( $+functions[_rmosh__subcmd__server__subcmd__new_commands] )) ||
_rmosh__subcmd__server__subcmd__new_commands() {
    local commands; commands=()
    _describe -t commands 'rmosh server new commands' commands "$@"
}

if [ "$funcstack[1]" = "_rmosh" ]; then
    _rmosh "$@"
else
    compdef _rmosh rmosh
fi
