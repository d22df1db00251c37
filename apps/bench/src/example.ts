/**
 * `pnpm example`: the smallest real use of @mixseg/core. Draws one million voxel intensities from
 * a known three-tissue mixture (CSF, grey and white matter of a T1 image, rounded to integers as
 * a 16-bit scanner stores them), fits a mixture, and prints what it recovered.
 */
import { bic, fitGaussianMixture, type GaussianMixture, predict, sample } from '@mixseg/core';

const truth: GaussianMixture = {
  covarianceType: 'full',
  nComponents: 3,
  nFeatures: 1,
  weights: [0.2, 0.45, 0.35],
  means: [[350], [650], [850]],
  covariances: [[[60 ** 2]], [[45 ** 2]], [[35 ** 2]]],
  precisionsCholesky: [[[1 / 60]], [[1 / 45]], [[1 / 35]]],
};
const names = ['CSF', 'GM', 'WM'];

const { samples, labels } = sample(truth, 1_000_000, 42);
for (let i = 0; i < samples.data.length; i++) samples.data[i] = Math.round(samples.data[i]!);

const started = performance.now();
const fit = fitGaussianMixture(samples, { nComponents: 3, nInit: 3, seed: 1 });
const seconds = (performance.now() - started) / 1000;

console.log(`Fitted ${samples.nSamples.toLocaleString('en')} voxels in ${seconds.toFixed(3)} s`);
console.log(
  `strategy ${fit.strategy}, ${fit.nIter} iterations, converged: ${fit.converged} (${fit.stopReason}), ` +
    `mean log-likelihood ${fit.meanLogLikelihood.toFixed(6)}`,
);
console.log('\nclass   weight (true)      mean (true)        sd (true)');
fit.model.means.forEach((mean, k) => {
  const sd = Math.sqrt(fit.model.covariances[k]![0]![0]!);
  const trueSd = Math.sqrt(truth.covariances[k]![0]![0]!);
  console.log(
    `${names[k]!.padEnd(6)}  ${fit.model.weights[k]!.toFixed(4)} (${truth.weights[k]!.toFixed(2)})` +
      `    ${mean[0]!.toFixed(2).padStart(7)} (${truth.means[k]![0]})` +
      `    ${sd.toFixed(2).padStart(6)} (${trueSd})`,
  );
});

const predicted = predict(fit.model, samples);
let agree = 0;
for (let i = 0; i < labels.length; i++) if (predicted[i] === labels[i]) agree++;
console.log(`\nvoxels labelled with their true class: ${((100 * agree) / labels.length).toFixed(2)} %`);

console.log('\nmodel selection (lower BIC is better):');
for (const k of [2, 3, 4]) {
  const model = fitGaussianMixture(samples, { nComponents: k, seed: 1 }).model;
  console.log(`  K = ${k}: BIC ${bic(model, samples).toFixed(0)}`);
}
