
# Destinations from ~/.ssh/config and known_hosts (added by rmosh to clap's script).
complete -c rmosh -n "__fish_rmosh_needs_command; or __fish_seen_subcommand_from connect" -a "(rmosh complete-hosts 2>/dev/null)" -d Host
