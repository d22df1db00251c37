/**
 * An argument of `mixseg segment` read as a glob (picomatch does the matching): the folder to
 * search, a test of the paths found below it, and a test of the folders worth entering, so that a
 * glob naming `sub-01` and `sub-02` reads no other subject's folder.
 */
import { sep } from 'node:path';
import picomatch from 'picomatch';

/**
 * How the globs are read (picomatch), as a shell reads them: `*`, `?`, `[..]` within a name, `**`
 * any folders, `{a,b}` alternatives; POSIX brackets (`[!1]` is "not 1", `[[:digit:]]` a digit); a
 * leading `!` is part of the name, not a negation.
 */
const GLOB_OPTIONS: picomatch.PicomatchOptions = { posix: true, nonegate: true };

/**
 * The argument as picomatch is to read it, `/`-separated: parentheses and `|` escaped, since in a
 * shell they are characters of a name (`scan (1).nii.gz`), while picomatch would read them as a
 * group. Characters the user escaped stay escaped.
 */
function globSource(pattern: string): string {
  return pattern
    .split(sep)
    .join('/')
    .replace(/\\.|[()|]/g, (match) => (match.length === 2 ? match : `\\${match}`));
}

/** Whether an argument is a glob rather than a path: it holds `*`, `?`, `[..]` or `{a,b}`. */
export function isGlob(pattern: string): boolean {
  return /[*?[{]/.test(pattern) && picomatch.scan(globSource(pattern), GLOB_OPTIONS).isGlob;
}

/** An argument read as a glob. */
export interface Glob {
  /** The folders before the first glob segment (`study` of `study/sub-*`; `` for none), unescaped. */
  base: string;
  /** Whether a path below `base` (relative, `/`-separated) matches. */
  matches: (path: string) => boolean;
  /** Whether a folder below `base` (relative, `/`-separated) could hold matching files. */
  couldMatchBelow: (folder: string) => boolean;
}

/** Reads an argument that {@link isGlob} says is a glob. */
export function parseGlob(pattern: string): Glob {
  const scan = picomatch.scan(globSource(pattern), GLOB_OPTIONS);
  const segments = globSegments(scan.glob);
  return {
    base: scan.base.replace(/\\(.)/g, '$1'),
    matches: picomatch(scan.glob, GLOB_OPTIONS),
    couldMatchBelow: (folder) => globCouldMatchBelow(segments, folder),
  };
}

/** Matches one name of a path; {@link ANY_DEPTH} stands for a `**` segment. */
type NameMatcher = (name: string) => boolean;

/** Marks a `**` segment in {@link globSegments}. */
const ANY_DEPTH: NameMatcher = () => true;

/**
 * Whether a folder (relative path with `/`) could hold files matching the glob's segments: each of
 * its names matches the glob's segment at that depth, until a `**` (which matches any depth).
 */
function globCouldMatchBelow(segments: readonly NameMatcher[] | undefined, folder: string): boolean {
  if (segments === undefined) return true;
  const names = folder.split('/');
  for (let i = 0; i < names.length; i++) {
    const segment = segments[i];
    if (segment === undefined) return false; // deeper than the glob reaches
    if (segment === ANY_DEPTH) return true;
    if (!segment(names[i]!)) return false;
  }
  return names.length < segments.length; // a file still has to match a segment below
}

/** Whether a glob segment closes every `{` and `[` it opens (else it spans a `/`); escapes skipped. */
function isSelfContained(segment: string): boolean {
  let depth = 0;
  for (let i = 0; i < segment.length; i++) {
    const c = segment[i];
    if (c === '\\') i++;
    else if (c === '{' || c === '[') depth++;
    else if ((c === '}' || c === ']') && --depth < 0) return false;
  }
  return depth === 0;
}

/**
 * The glob's `/`-separated segments as matchers of one name each, or undefined (no pruning) when
 * a segment holds `**` inside a name or a brace or bracket spans a `/` (`{a/b,c}/*.nii`).
 */
function globSegments(pattern: string): NameMatcher[] | undefined {
  const segments = pattern.split('/');
  if (segments.some((segment) => (segment.includes('**') && segment !== '**') || !isSelfContained(segment))) {
    return undefined;
  }
  return segments.map((segment) => (segment === '**' ? ANY_DEPTH : picomatch(segment, GLOB_OPTIONS)));
}
