/**
 * The `mixseg` command line: commander program, commands, and exit codes (0 success, 1 an input
 * failed, 2 usage error with commander's help hint). `runCli` is what the bin and the in-process
 * tests call.
 */
import { Command, CommanderError } from 'commander';
import { type CliIo, EXIT_FAILURE, EXIT_SUCCESS, EXIT_USAGE } from './cli-io.ts';
import { compareCommand } from './commands/compare.ts';
import { infoCommand } from './commands/info.ts';
import { phantomCommand } from './commands/phantom.ts';
import { segmentCommand } from './commands/segment.ts';
import { viewCommand } from './commands/view.ts';
import { SOFTWARE } from './version.ts';

/** Builds the program; `setExitCode` receives each command's outcome. */
export function createProgram(io: CliIo, setExitCode: (code: number) => void): Command {
  const program = new Command('mixseg')
    .description('Tissue segmentation of MR images with Gaussian mixtures and spatial priors')
    .version(SOFTWARE.Version, '-V, --version')
    .showHelpAfterError('(add --help for additional information)')
    .configureOutput({
      writeOut: (text) => io.stdout(text),
      writeErr: (text) => io.stderr(text),
      outputError: (text, write) => write(text),
    })
    .exitOverride();
  // a file that cannot be read or a failed computation: exit 1, the message names the file
  const fail = (message: string, usage = false) => {
    if (usage) {
      program.error(`error: ${message}`, { exitCode: EXIT_USAGE, code: 'mixseg.usage' });
    }
    io.stderr(`mixseg: ${message}\n`);
    setExitCode(EXIT_FAILURE);
  };
  segmentCommand(program, io, setExitCode);
  infoCommand(program, io, fail);
  compareCommand(program, io, fail);
  phantomCommand(program, io, fail);
  viewCommand(program, io, setExitCode);
  for (const command of program.commands) {
    command.showHelpAfterError('(add --help for additional information)').exitOverride();
    command.configureOutput(program.configureOutput());
  }
  return program;
}

/**
 * Runs the command line (`argv` without node and the script) and returns the exit code: commander's
 * own errors (unknown option, bad value, missing argument) and ours alike exit 2.
 */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  let exitCode: number = EXIT_SUCCESS;
  const program = createProgram(io, (code) => {
    exitCode = code;
  });
  try {
    await program.parseAsync([...argv], { from: 'user' });
  } catch (error) {
    if (error instanceof CommanderError) {
      if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version') return EXIT_SUCCESS;
      // `mixseg` alone prints the help on stderr
      if (error.code === 'commander.help') return EXIT_USAGE;
      return EXIT_USAGE;
    }
    io.stderr(`mixseg: ${(error as Error).stack ?? error}\n`);
    return EXIT_FAILURE;
  }
  return exitCode;
}
