import cliPackage from '../package.json' with { type: 'json' };

/** The software block of every sidecar and summary. */
export const SOFTWARE = { Name: 'mixseg', Version: cliPackage.version } as const;
