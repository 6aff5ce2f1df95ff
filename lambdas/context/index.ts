export * from './store';
export * from './window';
