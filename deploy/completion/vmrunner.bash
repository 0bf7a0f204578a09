# bash completion for vmrunner: commands, each command's options, files after -c/--config,
# directories after --templates-dir, the formats after -o/--output and --log-format.
#
# Install: copy to /usr/share/bash-completion/completions/vmrunner (system-wide) or
# ~/.local/share/bash-completion/completions/vmrunner, or source it from ~/.bashrc.
#
# The lists below are the command line of src/main/java/dev/vmrunner/cli/Cli.java;
# CompletionScriptTest fails when they differ, so a new command or option is added here too.

_vmrunner_commands="run render status console check start stop reset migrate help"
_vmrunner_opts_run="-c --config --templates-dir --http --incoming -v --verbose -q --quiet --log-format -h --help -V --version"
_vmrunner_opts_render="-c --config --templates-dir --raw -v --verbose -q --quiet --log-format -h --help -V --version"
_vmrunner_opts_status="-c --config --templates-dir -o --output --ready -v --verbose -q --quiet --log-format -h --help -V --version"
_vmrunner_opts_console="-c --config --templates-dir -v --verbose -q --quiet --log-format -h --help -V --version"
_vmrunner_opts_migrate="-c --config --templates-dir --to --cancel -v --verbose -q --quiet --log-format -h --help -V --version"
_vmrunner_opts_check="-c --config --templates-dir -v --verbose -q --quiet --log-format -h --help -V --version"
_vmrunner_opts_start="-c --config --templates-dir -v --verbose -q --quiet --log-format -h --help -V --version"
_vmrunner_opts_stop="-c --config --templates-dir --force -v --verbose -q --quiet --log-format -h --help -V --version"
_vmrunner_opts_reset="-c --config --templates-dir -v --verbose -q --quiet --log-format -h --help -V --version"
# Options followed by a value (the next word is not an option or a command).
_vmrunner_valued="-c --config --templates-dir --http --incoming --to -o --output --log-format"

_vmrunner() {
    local cur=${COMP_WORDS[COMP_CWORD]}
    local prev=${COMP_WORDS[COMP_CWORD - 1]}
    # --config=FI: bash splits at '=' (COMP_WORDBREAKS), so the option is two words back.
    if [[ $prev == "=" ]] && ((COMP_CWORD > 2)); then
        prev=${COMP_WORDS[COMP_CWORD - 2]}
    fi
    local command=run
    if ((COMP_CWORD > 1)) && [[ " $_vmrunner_commands " == *" ${COMP_WORDS[1]} "* ]]; then
        command=${COMP_WORDS[1]}
    fi

    COMPREPLY=()
    case $prev in
    -c | --config)
        compopt -o filenames 2>/dev/null
        mapfile -t COMPREPLY < <(compgen -f -- "$cur")
        return
        ;;
    --templates-dir)
        compopt -o filenames 2>/dev/null
        mapfile -t COMPREPLY < <(compgen -d -- "$cur")
        return
        ;;
    -o | --output | --log-format)
        mapfile -t COMPREPLY < <(compgen -W "text json" -- "$cur")
        return
        ;;
    esac
    if [[ " $_vmrunner_valued " == *" $prev "* ]]; then
        return # a value nothing can be suggested for (e.g. a port)
    fi

    if [[ $command == help ]]; then
        if ((COMP_CWORD == 2)); then
            mapfile -t COMPREPLY < <(compgen -W "$_vmrunner_commands" -- "$cur")
        fi
        return
    fi
    if ((COMP_CWORD == 1)) && [[ $cur != -* ]]; then
        mapfile -t COMPREPLY < <(compgen -W "$_vmrunner_commands" -- "$cur")
        return
    fi
    local options=_vmrunner_opts_$command
    mapfile -t COMPREPLY < <(compgen -W "${!options}" -- "$cur")
}

complete -F _vmrunner vmrunner
