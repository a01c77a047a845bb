export { DirectoryStore } from './directory.js';
export { fromS3, fromStore, openStore } from './open.js';
export type { StoreOptions } from './open.js';
export { isS3Url, parseS3Url } from './s3-location.js';
export type { S3Location, S3StoreOptions } from './s3-location.js';
export { S3Store, closeS3Clients } from './s3.js';
export type { ObjectStore, StoredObject } from './types.js';
