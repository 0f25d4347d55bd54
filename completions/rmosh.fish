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
complete -c rmosh -n "__fish_rmosh_needs_command" -f -a "completions" -d 'Print a shell completion script'
complete -c rmosh -n "__fish_rmosh_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c rmosh -n "__fish_rmosh_using_subcommand connect" -s h -l help -d 'Print help'
complete -c rmosh -n "__fish_rmosh_using_subcommand server" -s h -l help -d 'Print help'
complete -c rmosh -n "__fish_rmosh_using_subcommand client" -s # -d 'Ignored: the mosh wrapper\'s original arguments, so `ps` shows them' -r
complete -c rmosh -n "__fish_rmosh_using_subcommand client" -s c -l colors -d 'Print the number of colors $TERM supports (as `mosh-client -c`) and exit'
complete -c rmosh -n "__fish_rmosh_using_subcommand client" -s v -d 'More diagnostics on stderr (repeatable)'
complete -c rmosh -n "__fish_rmosh_using_subcommand client" -s h -l help -d 'Print help'
complete -c rmosh -n "__fish_rmosh_using_subcommand completions" -s h -l help -d 'Print help'
complete -c rmosh -n "__fish_rmosh_using_subcommand help; and not __fish_seen_subcommand_from connect server client completions help" -f -a "connect" -d 'Log in with SSH, start a server on the host and attach to it'
complete -c rmosh -n "__fish_rmosh_using_subcommand help; and not __fish_seen_subcommand_from connect server client completions help" -f -a "server" -d 'Run the server (as `mosh-server` does)'
complete -c rmosh -n "__fish_rmosh_using_subcommand help; and not __fish_seen_subcommand_from connect server client completions help" -f -a "client" -d 'Run only the client against a running server (key in MOSH_KEY)'
complete -c rmosh -n "__fish_rmosh_using_subcommand help; and not __fish_seen_subcommand_from connect server client completions help" -f -a "completions" -d 'Print a shell completion script'
complete -c rmosh -n "__fish_rmosh_using_subcommand help; and not __fish_seen_subcommand_from connect server client completions help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
