import { afterAll } from 'vitest';
import { removeCliHomes } from './cli.js';

// Every test file: the private $TRELLIS_HOMEs its CLI calls used go with it.
afterAll(removeCliHomes);
