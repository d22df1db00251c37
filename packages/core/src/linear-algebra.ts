/**
 * The small D x D algebra of a mixture (D is the number of features, a handful at most):
 * Cholesky factors and triangular inverses on flat row-major arrays. ml-matrix does the
 * factorisation; the rest is a few lines that must not allocate in loops over components.
 */
import { CholeskyDecomposition, Matrix } from 'ml-matrix';

/**
 * Lower Cholesky factor L of a symmetric D x D matrix (flat, row-major), so that A = L L^T.
 * Only the lower triangle is read (the upper one mirrors it, up to round-off that must not make
 * the factorisation fail). Returns `undefined` when A is not positive definite.
 */
export function choleskyLower(matrix: ArrayLike<number>, size: number): Float64Array | undefined {
  if (size === 1) {
    const a = matrix[0]!;
    return a > 0 && Number.isFinite(a) ? Float64Array.of(Math.sqrt(a)) : undefined;
  }
  const rows: number[][] = [];
  for (let i = 0; i < size; i++) {
    const row: number[] = [];
    for (let j = 0; j < size; j++) row.push(j <= i ? matrix[i * size + j]! : matrix[j * size + i]!);
    rows.push(row);
  }
  const decomposition = new CholeskyDecomposition(new Matrix(rows));
  if (!decomposition.isPositiveDefinite()) return undefined;
  const lower = decomposition.lowerTriangularMatrix;
  const out = new Float64Array(size * size);
  for (let i = 0; i < size; i++) {
    for (let j = 0; j <= i; j++) {
      const value = lower.get(i, j);
      if (!(value > 0 || i !== j) || !Number.isFinite(value)) return undefined;
      out[i * size + j] = value;
    }
  }
  return out;
}

/**
 * Precision Cholesky factor U (upper triangular, flat) from the covariance's lower factor L:
 * U = (L^-1)^T, so that precision = Sigma^-1 = U U^T. Solved by forward substitution, never
 * by inverting Sigma.
 */
export function precisionCholeskyFromLower(lower: Float64Array, size: number): Float64Array {
  // inverse of a lower-triangular matrix, column by column
  const inverse = new Float64Array(size * size);
  for (let col = 0; col < size; col++) {
    for (let i = col; i < size; i++) {
      let sum = i === col ? 1 : 0;
      for (let m = col; m < i; m++) sum -= lower[i * size + m]! * inverse[m * size + col]!;
      inverse[i * size + col] = sum / lower[i * size + i]!;
    }
  }
  const upper = new Float64Array(size * size);
  for (let i = 0; i < size; i++) for (let j = 0; j < size; j++) upper[i * size + j] = inverse[j * size + i]!;
  return upper;
}
