/**
 * Web Worker: runs @mixseg/imaging's segment() on the page's parsed image, the same code the CLI
 * runs, posting progress at every EM iteration and the result (buffers transferred) at the end.
 */
import { segment } from '@mixseg/imaging';
import type { SegmentMessage, SegmentRequest } from './segment-protocol.ts';

const scope = self as unknown as {
  onmessage: ((event: MessageEvent<SegmentRequest>) => void) | null;
  postMessage(message: SegmentMessage, transfer?: Transferable[]): void;
};

scope.onmessage = (event) => {
  const { image, options } = event.data;
  try {
    const started = performance.now();
    const result = segment([image], {
      nClasses: options.nClasses,
      prior: options.prior,
      beta: options.beta,
      onIteration: ({ stage, iteration, meanLogLikelihood }) =>
        scope.postMessage({ type: 'progress', stage, iteration, meanLogLikelihood }),
    });
    const biasField = result.biasFields?.[0];
    const transfer: Transferable[] = [result.labels.buffer];
    if (result.probabilities) transfer.push(result.probabilities.buffer);
    if (biasField) transfer.push(biasField.buffer);
    scope.postMessage(
      {
        type: 'done',
        labels: result.labels,
        probabilities: result.probabilities,
        biasField,
        modelIsCorrected: result.options.biasCorrection !== false,
        model: result.model,
        mixtureTrace: result.mixture.logLikelihoodTrace,
        spatialTrace: result.spatial?.logLikelihoodTrace ?? [],
        statistics: result.statistics,
        classNames: result.options.classNames,
        converged: (result.spatial ?? result.mixture).converged,
        stopReason: (result.spatial ?? result.mixture).stopReason,
        seconds: (performance.now() - started) / 1000,
      },
      transfer,
    );
  } catch (error) {
    scope.postMessage({ type: 'error', message: (error as Error).message });
  }
};
