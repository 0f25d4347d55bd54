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
complete -c rmosh -n "__fish_rmosh_needs_command" -f -a "sessions" -d 'List the rmosh sessions running on a host (over SSH)'
complete -c rmosh -n "__fish_rmosh_needs_command" -f -a "server" -d 'Run the server (as `mosh-server` does)'
complete -c rmosh -n "__fish_rmosh_needs_command" -f -a "client" -d 'Run only the client against a running server (key in MOSH_KEY)'
complete -c rmosh -n "__fish_rmosh_needs_command" -f -a "completions" -d 'Print a shell completion script'
complete -c rmosh -n "__fish_rmosh_needs_command" -f -a "man" -d 'Print a man page (rmosh, rmosh-connect, rmosh-server, rmosh-client)'
complete -c rmosh -n "__fish_rmosh_needs_command" -f -a "complete-hosts" -d 'Print the destinations the completion scripts offer'
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
complete -c rmosh -n "__fish_rmosh_using_subcommand connect" -s J -d 'Connect through these jump hosts, `[user@]host[:port]`, comma-separated (like `ssh -J`)' -r
complete -c rmosh -n "__fish_rmosh_using_subcommand connect" -l deploy -d 'Copy rmosh to the remote when it has no server (auto), always, or never. [default: auto]' -r -f -a "auto\t'Only when the remote has neither rmosh nor mosh-server'
always\t'Always copy this binary and use it'
never\t'Never copy; fail if no server exists remotely'"
complete -c rmosh -n "__fish_rmosh_using_subcommand connect" -l deploy-binary -d 'Binary to copy when deploying (e.g. a static or other-architecture build) instead of this one or a companion `rmosh-linux-<arch>` beside it' -r -F
complete -c rmosh -n "__fish_rmosh_using_subcommand connect" -l ssh -d 'Use this external ssh command instead of the built-in SSH client' -r
complete -c rmosh -n "__fish_rmosh_using_subcommand connect" -l attach -d 'Reattach to a running session: `--attach=ID`, or `--attach` for the only detached one' -r
complete -c rmosh -n "__fish_rmosh_using_subcommand connect" -l kill -d 'End the session ID on the host (its application gets SIGHUP)' -r
complete -c rmosh -n "__fish_rmosh_using_subcommand connect" -l predict-overwrite -d 'Predictions overwrite instead of insert'
complete -c rmosh -n "__fish_rmosh_using_subcommand connect" -l no-init -d 'Do not switch the terminal to the alternate screen'
complete -c rmosh -n "__fish_rmosh_using_subcommand connect" -l local -d 'Run the server on this machine, without SSH'
complete -c rmosh -n "__fish_rmosh_using_subcommand connect" -s 4 -d 'IPv4 only (`--family=inet`, like `ssh -4`)'
complete -c rmosh -n "__fish_rmosh_using_subcommand connect" -s 6 -d 'IPv6 only (`--family=inet6`, like `ssh -6`)'
complete -c rmosh -n "__fish_rmosh_using_subcommand connect" -s v -d 'Debug output on stderr; repeat for more (like `ssh -v`)'
complete -c rmosh -n "__fish_rmosh_using_subcommand connect" -s G -d 'Print the resolved SSH configuration for the host and exit (like `ssh -G`)'
complete -c rmosh -n "__fish_rmosh_using_subcommand connect" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c rmosh -n "__fish_rmosh_using_subcommand sessions" -l ssh -d 'Use this external ssh command instead of the built-in SSH client' -r
complete -c rmosh -n "__fish_rmosh_using_subcommand sessions" -l ssh-port -d 'SSH port (like `ssh -p`)' -r
complete -c rmosh -n "__fish_rmosh_using_subcommand sessions" -l server -d 'Remote server command (default: rmosh or a deployed rmosh)' -r
complete -c rmosh -n "__fish_rmosh_using_subcommand sessions" -s h -l help -d 'Print help'
complete -c rmosh -n "__fish_rmosh_using_subcommand server; and not __fish_seen_subcommand_from new list kill attach help" -s h -l help -d 'Print help'
complete -c rmosh -n "__fish_rmosh_using_subcommand server; and not __fish_seen_subcommand_from new list kill attach help" -f -a "new" -d 'Start a session: print `MOSH CONNECT <port> <key>`, detach, and wait up to 60 s for a client (Mosh\'s `mosh-server new`)'
complete -c rmosh -n "__fish_rmosh_using_subcommand server; and not __fish_seen_subcommand_from new list kill attach help" -f -a "list" -d 'List your running sessions'
complete -c rmosh -n "__fish_rmosh_using_subcommand server; and not __fish_seen_subcommand_from new list kill attach help" -f -a "kill" -d 'End sessions: their applications get SIGHUP'
complete -c rmosh -n "__fish_rmosh_using_subcommand server; and not __fish_seen_subcommand_from new list kill attach help" -f -a "attach" -d 'Give a running session to a new client: print `MOSH CONNECT <port> <key>` with a fresh key (the old client\'s key stops working)'
complete -c rmosh -n "__fish_rmosh_using_subcommand server; and not __fish_seen_subcommand_from new list kill attach help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c rmosh -n "__fish_rmosh_using_subcommand server; and __fish_seen_subcommand_from new" -s i -d 'Local IP address to bind to (tried first; the wildcard address is the fallback)' -r
complete -c rmosh -n "__fish_rmosh_using_subcommand server; and __fish_seen_subcommand_from new" -s p -d 'UDP port, or inclusive range, to bind [default: first free in 60001:60999]' -r
complete -c rmosh -n "__fish_rmosh_using_subcommand server; and __fish_seen_subcommand_from new" -s c -d 'Colours of the client terminal: 256 sets TERM=xterm-256color, anything else TERM=xterm' -r
complete -c rmosh -n "__fish_rmosh_using_subcommand server; and __fish_seen_subcommand_from new" -s l -d 'Locale setting to use when the native locale is not UTF-8 (repeatable)' -r
complete -c rmosh -n "__fish_rmosh_using_subcommand server; and __fish_seen_subcommand_from new" -s @ -d 'Ignored with its argument (lets scripts neutralize a word, as in Mosh)' -r
complete -c rmosh -n "__fish_rmosh_using_subcommand server; and __fish_seen_subcommand_from new" -s s -d 'Bind to the local address of the SSH connection (from SSH_CONNECTION)'
complete -c rmosh -n "__fish_rmosh_using_subcommand server; and __fish_seen_subcommand_from new" -s v -d 'Keep stdin/stdout/stderr open after detaching and log to stderr (repeatable)'
complete -c rmosh -n "__fish_rmosh_using_subcommand server; and __fish_seen_subcommand_from new" -s h -l help -d 'Print help'
complete -c rmosh -n "__fish_rmosh_using_subcommand server; and __fish_seen_subcommand_from list" -l json -d 'One JSON array instead of a table'
complete -c rmosh -n "__fish_rmosh_using_subcommand server; and __fish_seen_subcommand_from list" -s h -l help -d 'Print help'
complete -c rmosh -n "__fish_rmosh_using_subcommand server; and __fish_seen_subcommand_from kill" -l older-than -d 'Sessions detached for longer than this (`90s`, `30m`, `2h`, `7d`, `1h30m`)' -r
complete -c rmosh -n "__fish_rmosh_using_subcommand server; and __fish_seen_subcommand_from kill" -l detached -d 'Every session without a client'
complete -c rmosh -n "__fish_rmosh_using_subcommand server; and __fish_seen_subcommand_from kill" -s h -l help -d 'Print help'
complete -c rmosh -n "__fish_rmosh_using_subcommand server; and __fish_seen_subcommand_from attach" -s h -l help -d 'Print help'
complete -c rmosh -n "__fish_rmosh_using_subcommand server; and __fish_seen_subcommand_from help" -f -a "new" -d 'Start a session: print `MOSH CONNECT <port> <key>`, detach, and wait up to 60 s for a client (Mosh\'s `mosh-server new`)'
complete -c rmosh -n "__fish_rmosh_using_subcommand server; and __fish_seen_subcommand_from help" -f -a "list" -d 'List your running sessions'
complete -c rmosh -n "__fish_rmosh_using_subcommand server; and __fish_seen_subcommand_from help" -f -a "kill" -d 'End sessions: their applications get SIGHUP'
complete -c rmosh -n "__fish_rmosh_using_subcommand server; and __fish_seen_subcommand_from help" -f -a "attach" -d 'Give a running session to a new client: print `MOSH CONNECT <port> <key>` with a fresh key (the old client\'s key stops working)'
complete -c rmosh -n "__fish_rmosh_using_subcommand server; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c rmosh -n "__fish_rmosh_using_subcommand client" -s # -d 'Ignored: the mosh wrapper\'s original arguments, so `ps` shows them' -r
complete -c rmosh -n "__fish_rmosh_using_subcommand client" -s c -l colors -d 'Print the number of colors $TERM supports (as `mosh-client -c`) and exit'
complete -c rmosh -n "__fish_rmosh_using_subcommand client" -s v -d 'More diagnostics on stderr (repeatable)'
complete -c rmosh -n "__fish_rmosh_using_subcommand client" -s h -l help -d 'Print help'
complete -c rmosh -n "__fish_rmosh_using_subcommand completions" -s h -l help -d 'Print help'
complete -c rmosh -n "__fish_rmosh_using_subcommand man" -s h -l help -d 'Print help'
complete -c rmosh -n "__fish_rmosh_using_subcommand complete-hosts" -s h -l help -d 'Print help'
complete -c rmosh -n "__fish_rmosh_using_subcommand help; and not __fish_seen_subcommand_from connect sessions server client completions man complete-hosts help" -f -a "connect" -d 'Log in with SSH, start a server on the host and attach to it'
complete -c rmosh -n "__fish_rmosh_using_subcommand help; and not __fish_seen_subcommand_from connect sessions server client completions man complete-hosts help" -f -a "sessions" -d 'List the rmosh sessions running on a host (over SSH)'
complete -c rmosh -n "__fish_rmosh_using_subcommand help; and not __fish_seen_subcommand_from connect sessions server client completions man complete-hosts help" -f -a "server" -d 'Run the server (as `mosh-server` does)'
complete -c rmosh -n "__fish_rmosh_using_subcommand help; and not __fish_seen_subcommand_from connect sessions server client completions man complete-hosts help" -f -a "client" -d 'Run only the client against a running server (key in MOSH_KEY)'
complete -c rmosh -n "__fish_rmosh_using_subcommand help; and not __fish_seen_subcommand_from connect sessions server client completions man complete-hosts help" -f -a "completions" -d 'Print a shell completion script'
complete -c rmosh -n "__fish_rmosh_using_subcommand help; and not __fish_seen_subcommand_from connect sessions server client completions man complete-hosts help" -f -a "man" -d 'Print a man page (rmosh, rmosh-connect, rmosh-server, rmosh-client)'
complete -c rmosh -n "__fish_rmosh_using_subcommand help; and not __fish_seen_subcommand_from connect sessions server client completions man complete-hosts help" -f -a "complete-hosts" -d 'Print the destinations the completion scripts offer'
complete -c rmosh -n "__fish_rmosh_using_subcommand help; and not __fish_seen_subcommand_from connect sessions server client completions man complete-hosts help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c rmosh -n "__fish_rmosh_using_subcommand help; and __fish_seen_subcommand_from server" -f -a "new" -d 'Start a session: print `MOSH CONNECT <port> <key>`, detach, and wait up to 60 s for a client (Mosh\'s `mosh-server new`)'
complete -c rmosh -n "__fish_rmosh_using_subcommand help; and __fish_seen_subcommand_from server" -f -a "list" -d 'List your running sessions'
complete -c rmosh -n "__fish_rmosh_using_subcommand help; and __fish_seen_subcommand_from server" -f -a "kill" -d 'End sessions: their applications get SIGHUP'
complete -c rmosh -n "__fish_rmosh_using_subcommand help; and __fish_seen_subcommand_from server" -f -a "attach" -d 'Give a running session to a new client: print `MOSH CONNECT <port> <key>` with a fresh key (the old client\'s key stops working)'

# Destinations from ~/.ssh/config and known_hosts (added by rmosh to clap's script).
complete -c rmosh -n "__fish_rmosh_needs_command; or __fish_seen_subcommand_from connect" -a "(rmosh complete-hosts 2>/dev/null)" -d Host
