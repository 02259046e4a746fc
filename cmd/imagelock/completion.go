package main

import (
	"fmt"
	"strings"

	"github.com/urfave/cli/v2"
)

// The bash and zsh scripts ask the binary itself for candidates, with
// urfave/cli's --generate-bash-completion; fish gets a static script.
const (
	bashCompletion = `# bash completion for imagelock: source <(imagelock completion bash)
_imagelock_complete() {
  local cur words
  COMPREPLY=()
  cur="${COMP_WORDS[COMP_CWORD]}"
  words=("${COMP_WORDS[@]:0:$COMP_CWORD}")
  local opts
  if [[ "$cur" == -* ]]; then
    opts=$("${words[@]}" "$cur" --generate-bash-completion 2>/dev/null)
  else
    opts=$("${words[@]}" --generate-bash-completion 2>/dev/null)
  fi
  COMPREPLY=($(compgen -W "${opts}" -- "${cur}"))
}
complete -o bashdefault -o default -F _imagelock_complete imagelock
`
	zshCompletion = `#compdef imagelock
# zsh completion for imagelock: imagelock completion zsh > "${fpath[1]}/_imagelock"
_imagelock() {
  local -a opts
  local cur=${words[-1]}
  if [[ "$cur" == -* ]]; then
    opts=("${(@f)$(${words[@]:0:#words[@]-1} ${cur} --generate-bash-completion 2>/dev/null)}")
  else
    opts=("${(@f)$(${words[@]:0:#words[@]-1} --generate-bash-completion 2>/dev/null)}")
  fi
  if [[ "${opts[1]}" != "" ]]; then
    _describe 'values' opts
  else
    _files
  fi
}
if [[ "$funcstack[1]" = "_imagelock" ]]; then
  _imagelock "$@"
else
  compdef _imagelock imagelock
fi
`
)

func completionCommand() *cli.Command {
	return &cli.Command{
		Name:  "completion",
		Usage: "print a shell completion script: bash, zsh or fish",
		Description: "bash:  source <(imagelock completion bash)\n" +
			"zsh:   imagelock completion zsh > \"${fpath[1]}/_imagelock\"\n" +
			"fish:  imagelock completion fish > ~/.config/fish/completions/imagelock.fish",
		ArgsUsage: "bash|zsh|fish",
		Action: func(c *cli.Context) error {
			shell := c.Args().First()
			if c.NArg() != 1 {
				return fmt.Errorf("completion takes one shell: bash, zsh or fish")
			}
			var script string
			switch shell {
			case "bash":
				script = bashCompletion
			case "zsh":
				script = zshCompletion
			case "fish":
				s, err := c.App.ToFishCompletion()
				if err != nil {
					return fmt.Errorf("writing the fish completion: %w", err)
				}
				script = s
			default:
				return fmt.Errorf("completion %s: want one of bash, zsh, fish", shell)
			}
			_, err := fmt.Fprint(c.App.Writer, strings.TrimLeft(script, "\n"))
			return err
		},
	}
}
