/**
 * The two k-means an IVF-PQ index is trained with, on a sample of its vectors (as FAISS trains):
 *
 * - spherical k-means for the coarse lists (unit centroids, points assigned by inner product, the
 *   metric the index ranks by). Assignment is the costly step (points × lists × dimension); it runs on
 *   the int8 SIMD scan the app searches with, one point against all centroids at a time.
 * - L2 k-means for each PQ sub-space (256 codewords of a few dimensions), assigned by pq-nearest.wat.
 *
 * Our own rather than a library's: the npm k-means packages (ml-kmeans and the like) take number[][]
 * and a generic distance function, which at 64k × 1,024 × 384 per iteration is minutes where the SIMD
 * scan takes seconds. Empty clusters are re-seeded with a random point, as FAISS does with a split.
 */
import { FlatInt8Index } from '../src/retrieval/flat-index.ts';
import { normalize, quantizeInt8 } from '../src/retrieval/vectors.ts';
import { NearestCodeword } from './pq-encoder.ts';

export interface KmeansOptions {
  iterations: number;
  random: () => number;
}

/** `k` unit centroids of `points` (row after row, `dimension` floats each). */
export function sphericalKmeans(points: Float32Array, dimension: number, k: number, options: KmeansOptions): Float32Array[] {
  const n = points.length / dimension;
  let centroids = initialCentroids(points, dimension, k, options.random).map(normalize);
  const assignment = new Int32Array(n);
  for (let iteration = 0; iteration < options.iterations; iteration++) {
    const index = nearestByInnerProduct(centroids, dimension);
    for (let i = 0; i < n; i++) assignment[i] = index(points.subarray(i * dimension, (i + 1) * dimension));
    centroids = means(points, dimension, assignment, k, options.random).map(normalize);
  }
  return centroids;
}

/** Finds the centroid with the largest inner product, on the int8 scan. */
export function nearestByInnerProduct(centroids: readonly Float32Array[], dimension: number): (point: Float32Array) => number {
  const index = new FlatInt8Index(dimension);
  index.add(quantizeInt8(centroids, dimension));
  return (point) => index.search(point, 1)[0]?.row ?? 0;
}

/** `k` centroids of `points` (`dimension` floats each) by squared distance; k a multiple of 16. */
export function kmeansL2(points: Float32Array, dimension: number, k: number, options: KmeansOptions): Float32Array[] {
  let centroids = initialCentroids(points, dimension, k, options.random);
  for (let iteration = 0; iteration < options.iterations; iteration++) {
    const flat = new Float32Array(k * dimension);
    centroids.forEach((c, j) => flat.set(c, j * dimension));
    const nearest = new NearestCodeword(flat, 1, k, dimension).assign(points);
    centroids = means(points, dimension, nearest, k, options.random);
  }
  return centroids;
}

/** `k` distinct points at random (repeating points when there are fewer than `k`). */
function initialCentroids(points: Float32Array, dimension: number, k: number, random: () => number): Float32Array[] {
  const n = points.length / dimension;
  if (n === 0) throw new Error('k-means needs at least one point');
  const order = Array.from({ length: n }, (_, i) => i);
  for (let i = 0; i < Math.min(k, n); i++) {
    const j = i + Math.floor(random() * (n - i));
    [order[i], order[j]] = [order[j] as number, order[i] as number];
  }
  return Array.from({ length: k }, (_, j) => points.slice((order[j % n] as number) * dimension, ((order[j % n] as number) + 1) * dimension));
}

/** Each cluster's mean; an empty cluster takes a random point instead. */
function means(points: Float32Array, dimension: number, assignment: Int32Array, k: number, random: () => number): Float32Array[] {
  const sums = Array.from({ length: k }, () => new Float32Array(dimension));
  const counts = new Int32Array(k);
  assignment.forEach((cluster, i) => {
    const sum = sums[cluster] as Float32Array;
    for (let d = 0, o = i * dimension; d < dimension; d++, o++) sum[d] = (sum[d] as number) + (points[o] as number);
    counts[cluster] = (counts[cluster] as number) + 1;
  });
  const n = assignment.length;
  return sums.map((sum, j) => {
    const count = counts[j] as number;
    if (count > 0) return sum.map((x) => x / count);
    const i = Math.floor(random() * n);
    return points.slice(i * dimension, (i + 1) * dimension);
  });
}
