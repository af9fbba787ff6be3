import type { CommandModule } from 'yargs';
import { describeWorkers } from '../shared/describe-workers.js';
import { printReport } from '../shared/detached-report.js';
import { resolveUserPath } from '../shared/resolve-user-path.js';
import { exampleGroup, formatExamples, type CommandExample } from '../shared/format-examples.js';
import { transportSettingsFrom, withTransportOptions, type TransportArguments } from '../shared/transport-options.js';
import { runMandelbrot } from './run-mandelbrot.js';

/** What `--help` shows; the CLI's test runs each one as printed. */
export const mandelbrotExamples: readonly CommandExample[] = [
  { command: 'mandelbrot', description: 'The whole set: mandelbrot.png' },
  { command: 'mandelbrot -o small.png --width 300 --height 200', description: 'A small picture' },
  { command: 'mandelbrot -x -0.7436 -y 0.1318 --span 0.003', description: 'The seahorse valley' },
];

interface MandelbrotArguments extends TransportArguments {
  output: string;
  width: number;
  height: number;
  tile: number;
  iterations: number;
  'center-x': number;
  'center-y': number;
  span: number;
}

export const mandelbrotCommand: CommandModule<object, MandelbrotArguments> = {
  command: 'mandelbrot',
  describe: 'Draw the Mandelbrot set, one tile per task, into a PNG',
  builder: (yargs) =>
    withTransportOptions(
      yargs
        .option('output', { group: exampleGroup, alias: 'o', type: 'string', default: 'mandelbrot.png', describe: 'PNG file to write' })
        .option('width', { group: exampleGroup, type: 'number', default: 1200, describe: 'Width in pixels' })
        .option('height', { group: exampleGroup, type: 'number', default: 800, describe: 'Height in pixels' })
        .option('tile', { group: exampleGroup, type: 'number', default: 100, describe: 'Side of a square tile (one task), in pixels' })
        .option('iterations', { group: exampleGroup, type: 'number', default: 1000, describe: 'Iterations before a point counts as inside' })
        .option('center-x', { group: exampleGroup, alias: 'x', type: 'number', default: -0.75, describe: 'Real part of the centre' })
        .option('center-y', { group: exampleGroup, alias: 'y', type: 'number', default: 0, describe: 'Imaginary part of the centre' })
        .option('span', { group: exampleGroup, type: 'number', default: 3.5, describe: 'Width of the picture in the plane' }),
    ).epilogue(formatExamples(mandelbrotExamples)),
  handler: async (argv) => {
    const report = await runMandelbrot({
      ...transportSettingsFrom(argv),
      output: resolveUserPath(argv.output),
      width: argv.width,
      height: argv.height,
      tile: argv.tile,
      iterations: argv.iterations,
      centerX: argv['center-x'],
      centerY: argv['center-y'],
      span: argv.span,
      progress: !argv.json,
    });
    printReport(report, argv.json, (report) => {
      return (
        `wrote ${report.output} (${report.width} x ${report.height} pixels, ${new Intl.NumberFormat('en-US').format(report.bytes)} bytes)\n` +
        `${report.tiles} tiles on ${describeWorkers(report)}: ${report.seconds.toFixed(2)} s\n`
      );
    });
  },
};
