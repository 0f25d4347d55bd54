# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_rmosh_global_optspecs
    string join \n h/help V/version
end

function __fish_rmosh_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_rmosh_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_rmosh_using_subcommand
    set -l cmd (__fish_rmosh_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c rmosh -n "__fish_rmosh_needs_command" -s h -l help -d 'Print help'
complete -c rmosh -n "__fish_rmosh_needs_command" -s V -l version -d 'Print version'
complete -c rmosh -n "__fish_rmosh_needs_command" -f -a "connect" -d 'Log in with SSH, start a server on the host and attach to it'
complete -c rmosh -n "__fish_rmosh_needs_command" -f -a "server" -d 'Run the server (as `mosh-server` does)'
complete -c rmosh -n "__fish_rmosh_needs_command" -f -a "client" -d 'Run only the client against a running server (key in MOSH_KEY)'
complete -c rmosh -n "__fish_rmosh_needs_command" -f -a "forward" -d 'Relay framed datagrams on stdin/stdout to a server\'s UDP port (the host end of `--transport ssh`, run by `rmosh connect`)'
complete -c rmosh -n "__fish_rmosh_needs_command" -f -a "completions" -d 'Print a shell completion script'
complete -c rmosh -n "__fish_rmosh_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c rmosh -n "__fish_rmosh_using_subcommand connect" -s p -l port -d 'Remote UDP port or range (PORT or PORT:PORT2)' -r
complete -c rmosh -n "__fish_rmosh_using_subcommand connect" -l ssh-port -d 'SSH port (like `ssh -p`)' -r
complete -c rmosh -n "__fish_rmosh_using_subcommand connect" -s F -d 'SSH configuration file instead of ~/.ssh/config and /etc/ssh/ssh_config' -r -F
complete -c rmosh -n "__fish_rmosh_using_subcommand connect" -s l -d 'Remote user name (like `ssh -l`)' -r
complete -c rmosh -n "__fish_rmosh_using_subcommand connect" -s i -d 'Identity (private key) file; repeatable' -r -F
complete -c rmosh -n "__fish_rmosh_using_subcommand connect" -s o -l ssh-option -d 'SSH option in ssh_config syntax (`Key=Value`); repeatable' -r
complete -c rmosh -n "__fish_rmosh_using_subcommand connect" -l server -d 'Remote server command (default: rmosh, a deployed rmosh, or mosh-server)' -r
complete -c rmosh -n "__fish_rmosh_using_subcommand connect" -l client -d 'Client program to exec instead of this rmosh as mosh-client' -r
complete -c rmosh -n "__fish_rmosh_using_subcommand connect" -l predict -d 'Local echo mode' -r -f -a "adaptive\t'Echo when the link is slow (the default)'
always\t'Always echo locally'
never\t'Never echo locally'
experimental\t'Echo aggressively'"
complete -c rmosh -n "__fish_rmosh_using_subcommand connect" -l bind-server -d 'Where the server binds: ssh (default), any, or an IP address' -r
complete -c rmosh -n "__fish_rmosh_using_subcommand connect" -l family -d 'Address family for SSH and UDP' -r -f -a "inet\t'IPv4 only'
inet6\t'IPv6 only'
auto\t'Whatever the connection used'
all\t'Like auto'
prefer-inet\t'Like auto (the wrapper\'s fake proxy preference)'
prefer-inet6\t'Like auto'"
complete -c rmosh -n "__fish_rmosh_using_subcommand connect" -l deploy -d 'Copy rmosh to the remote when it has no server (auto), always, or never' -r -f -a "auto\t'Only when the remote has neither rmosh nor mosh-server'
always\t'Always copy this binary and use it'
never\t'Never copy; fail if no server exists remotely'"
complete -c rmosh -n "__fish_rmosh_using_subcommand connect" -l ssh -d 'Use this external ssh command instead of the built-in SSH client' -r
complete -c rmosh -n "__fish_rmosh_using_subcommand connect" -l transport -d 'How datagrams travel: UDP, falling back to the SSH connection when UDP gets no reply (auto); UDP only; or the SSH connection only' -r -f -a "auto\t'UDP, and the SSH connection when UDP gets no answer'
udp\t'UDP only (as Mosh)'
ssh\t'The SSH connection only'"
complete -c rmosh -n "__fish_rmosh_using_subcommand connect" -l predict-overwrite -d 'Predictions overwrite instead of insert'
complete -c rmosh -n "__fish_rmosh_using_subcommand connect" -l no-init -d 'Do not switch the terminal to the alternate screen'
complete -c rmosh -n "__fish_rmosh_using_subcommand connect" -l local -d 'Run the server on this machine, without SSH'
complete -c rmosh -n "__fish_rmosh_using_subcommand connect" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c rmosh -n "__fish_rmosh_using_subcommand server; and not __fish_seen_subcommand_from new help" -s h -l help -d 'Print help'
complete -c rmosh -n "__fish_rmosh_using_subcommand server; and not __fish_seen_subcommand_from new help" -f -a "new" -d 'Start a session: print `MOSH CONNECT <port> <key>`, detach, and wait up to 60 s for a client (Mosh\'s `mosh-server new`)'
complete -c rmosh -n "__fish_rmosh_using_subcommand server; and not __fish_seen_subcommand_from new help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c rmosh -n "__fish_rmosh_using_subcommand server; and __fish_seen_subcommand_from new" -s i -d 'Local IP address to bind to (tried first; the wildcard address is the fallback)' -r
complete -c rmosh -n "__fish_rmosh_using_subcommand server; and __fish_seen_subcommand_from new" -s p -d 'UDP port, or inclusive range, to bind [default: first free in 60001:60999]' -r
complete -c rmosh -n "__fish_rmosh_using_subcommand server; and __fish_seen_subcommand_from new" -s c -d 'Colours of the client terminal: 256 sets TERM=xterm-256color, anything else TERM=xterm' -r
complete -c rmosh -n "__fish_rmosh_using_subcommand server; and __fish_seen_subcommand_from new" -s l -d 'Locale setting to use when the native locale is not UTF-8 (repeatable)' -r
complete -c rmosh -n "__fish_rmosh_using_subcommand server; and __fish_seen_subcommand_from new" -s @ -d 'Ignored with its argument (lets scripts neutralize a word, as in Mosh)' -r
complete -c rmosh -n "__fish_rmosh_using_subcommand server; and __fish_seen_subcommand_from new" -s s -d 'Bind to the local address of the SSH connection (from SSH_CONNECTION)'
complete -c rmosh -n "__fish_rmosh_using_subcommand server; and __fish_seen_subcommand_from new" -s v -d 'Keep stdin/stdout/stderr open after detaching and log to stderr (repeatable)'
complete -c rmosh -n "__fish_rmosh_using_subcommand server; and __fish_seen_subcommand_from new" -s h -l help -d 'Print help'
complete -c rmosh -n "__fish_rmosh_using_subcommand server; and __fish_seen_subcommand_from help" -f -a "new" -d 'Start a session: print `MOSH CONNECT <port> <key>`, detach, and wait up to 60 s for a client (Mosh\'s `mosh-server new`)'
complete -c rmosh -n "__fish_rmosh_using_subcommand server; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c rmosh -n "__fish_rmosh_using_subcommand client" -s # -d 'Ignored: the mosh wrapper\'s original arguments, so `ps` shows them' -r
complete -c rmosh -n "__fish_rmosh_using_subcommand client" -s c -l colors -d 'Print the number of colors $TERM supports (as `mosh-client -c`) and exit'
complete -c rmosh -n "__fish_rmosh_using_subcommand client" -s v -d 'More diagnostics on stderr (repeatable)'
complete -c rmosh -n "__fish_rmosh_using_subcommand client" -s h -l help -d 'Print help'
complete -c rmosh -n "__fish_rmosh_using_subcommand forward" -l to -d 'The server\'s address (default: this host\'s end of `$SSH_CONNECTION`, where a server started with `--bind-server=ssh` listens; else 127.0.0.1)' -r
complete -c rmosh -n "__fish_rmosh_using_subcommand forward" -s h -l help -d 'Print help'
complete -c rmosh -n "__fish_rmosh_using_subcommand completions" -s h -l help -d 'Print help'
complete -c rmosh -n "__fish_rmosh_using_subcommand help; and not __fish_seen_subcommand_from connect server client forward completions help" -f -a "connect" -d 'Log in with SSH, start a server on the host and attach to it'
complete -c rmosh -n "__fish_rmosh_using_subcommand help; and not __fish_seen_subcommand_from connect server client forward completions help" -f -a "server" -d 'Run the server (as `mosh-server` does)'
complete -c rmosh -n "__fish_rmosh_using_subcommand help; and not __fish_seen_subcommand_from connect server client forward completions help" -f -a "client" -d 'Run only the client against a running server (key in MOSH_KEY)'
complete -c rmosh -n "__fish_rmosh_using_subcommand help; and not __fish_seen_subcommand_from connect server client forward completions help" -f -a "forward" -d 'Relay framed datagrams on stdin/stdout to a server\'s UDP port (the host end of `--transport ssh`, run by `rmosh connect`)'
complete -c rmosh -n "__fish_rmosh_using_subcommand help; and not __fish_seen_subcommand_from connect server client forward completions help" -f -a "completions" -d 'Print a shell completion script'
complete -c rmosh -n "__fish_rmosh_using_subcommand help; and not __fish_seen_subcommand_from connect server client forward completions help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c rmosh -n "__fish_rmosh_using_subcommand help; and __fish_seen_subcommand_from server" -f -a "new" -d 'Start a session: print `MOSH CONNECT <port> <key>`, detach, and wait up to 60 s for a client (Mosh\'s `mosh-server new`)'
