//! Folds constant `DequantizeLinear` nodes of an ONNX graph into f32 initializers.
//!
//! The int8 block-quantized YuNet and SFace models use opset-21 `DequantizeLinear` with a
//! `block_size` attribute, which tract-onnx 0.23 rejects. Their quantized tensors are all graph
//! constants, so we dequantize them once at load time: `value = (x − zero_point) × scale`, where the
//! scale (and zero point) index is the element's index with its coordinate along `axis` divided by
//! `block_size` (per-axis when `block_size` is 0 and the scale is 1-D, per-tensor when it is a scalar).

use std::collections::{HashMap, HashSet};

use tract_onnx::data_resolver::MmapDataResolver;
use tract_onnx::pb::{tensor_proto::DataType, ModelProto, NodeProto, TensorProto};
use tract_onnx::prelude::*;
use tract_onnx::tract_hir::internal::{ensure, TractErrorContext};

/// Replaces every `DequantizeLinear` whose inputs are all initializers by an f32 initializer named
/// after its output; drops initializers nothing uses any more and graph inputs that are neither
/// initializers nor consumed (some exporters list stale weight names as inputs). Returns how many
/// nodes were folded.
pub(crate) fn fold_constant_dequantize(model: &mut ModelProto) -> TractResult<usize> {
    let graph = model.graph.as_mut().context("model has no graph")?;
    let by_name: HashMap<String, usize> =
        graph.initializer.iter().enumerate().map(|(i, t)| (t.name.clone(), i)).collect();

    let mut folded = Vec::new();
    let mut removed = Vec::new();
    let mut kept = Vec::with_capacity(graph.node.len());
    for node in std::mem::take(&mut graph.node) {
        let foldable = node.op_type == "DequantizeLinear"
            && node.output.len() == 1
            && node.input.len() >= 2
            && node.input.iter().all(|i| i.is_empty() || by_name.contains_key(i));
        if !foldable {
            kept.push(node);
            continue;
        }
        let get = |i: usize| node.input.get(i).filter(|n| !n.is_empty()).map(|n| &graph.initializer[by_name[n]]);
        let x = get(0).context("DequantizeLinear without input")?;
        let scale = get(1).context("DequantizeLinear without scale")?;
        let tensor = dequantize(&node, x, scale, get(2)).with_context(|| format!("folding {}", node.output[0]))?;
        folded.push(tensor);
        removed.push(node);
    }
    graph.node = kept;

    let still_used: HashSet<&str> = graph.node.iter().flat_map(|n| n.input.iter().map(String::as_str)).collect();
    let outputs: HashSet<&str> = graph.output.iter().map(|o| o.name.as_str()).collect();
    let dropped: HashSet<String> = removed
        .iter()
        .flat_map(|n| n.input.iter())
        .filter(|i| !still_used.contains(i.as_str()) && !outputs.contains(i.as_str()))
        .cloned()
        .collect();
    graph.initializer.retain(|t| !dropped.contains(&t.name));
    let count = folded.len();
    graph.initializer.extend(folded);

    let initialized: HashSet<String> = graph.initializer.iter().map(|t| t.name.clone()).collect();
    let consumed: HashSet<String> = graph.node.iter().flat_map(|n| n.input.iter().cloned()).collect();
    graph.input.retain(|i| initialized.contains(&i.name) || consumed.contains(&i.name));
    Ok(count)
}

fn attr_int(node: &NodeProto, name: &str) -> Option<i64> {
    node.attribute.iter().find(|a| a.name == name).map(|a| a.i)
}

fn load_f32(t: &TensorProto) -> TractResult<(Vec<usize>, Vec<f32>)> {
    let tensor = tract_onnx::tensor::load_tensor(&MmapDataResolver, t, None)?;
    let shape = tensor.shape().to_vec();
    let values = tensor.cast_to::<f32>()?.try_as_plain_ram()?.as_slice::<f32>()?.to_vec();
    Ok((shape, values))
}

fn dequantize(
    node: &NodeProto,
    x: &TensorProto,
    scale: &TensorProto,
    zero_point: Option<&TensorProto>,
) -> TractResult<TensorProto> {
    let (shape, xs) = load_f32(x)?;
    let (scale_shape, scales) = load_f32(scale)?;
    let zero_points = match zero_point {
        Some(z) => {
            let (zshape, zs) = load_f32(z)?;
            ensure!(zshape == scale_shape, "zero point shape {zshape:?} differs from scale shape {scale_shape:?}");
            zs
        }
        None => vec![0.0; scales.len()],
    };
    let rank = shape.len();
    let axis = attr_int(node, "axis").unwrap_or(1);
    let axis = if axis < 0 { axis + rank as i64 } else { axis };
    let block = attr_int(node, "block_size").unwrap_or(0);
    ensure!(block >= 0, "negative block_size");
    let block = block as usize;

    let values: Vec<f32> = if scales.len() == 1 && block == 0 {
        xs.iter().map(|&v| (v - zero_points[0]) * scales[0]).collect()
    } else {
        ensure!((0..rank as i64).contains(&axis), "axis {axis} out of range for rank {rank}");
        let axis = axis as usize;
        // View the data as [outer, len, inner] around `axis`; the scale is [outer, blocks, inner]
        // (blocked) or [len] (per-axis, shared by every outer and inner index).
        let outer: usize = shape[..axis].iter().product();
        let len = shape[axis];
        let inner: usize = shape[axis + 1..].iter().product();
        let per_axis = block == 0;
        let (blocks, block) = if per_axis {
            ensure!(scale_shape.len() == 1 && scale_shape[0] == len, "per-axis scale shape {scale_shape:?}");
            (len, 1)
        } else {
            ensure!(scale_shape.len() == rank, "blocked scale rank {scale_shape:?} vs data {shape:?}");
            ensure!(
                scale_shape[axis] == len.div_ceil(block),
                "blocked scale {scale_shape:?} does not fit data {shape:?} with block {block}"
            );
            for d in 0..rank {
                ensure!(d == axis || scale_shape[d] == shape[d], "scale {scale_shape:?} vs data {shape:?}");
            }
            (len.div_ceil(block), block)
        };
        let mut out = Vec::with_capacity(xs.len());
        if inner == 1 && !per_axis {
            // The common layout (weights quantized along their last axis): runs of `block` values
            // share one scale, so the loop stays cheap even in unoptimised builds.
            for (o, row) in xs.chunks(len).enumerate() {
                for (b, run) in row.chunks(block).enumerate() {
                    let (s, z) = (scales[o * blocks + b], zero_points[o * blocks + b]);
                    out.extend(run.iter().map(|&v| (v - z) * s));
                }
            }
        } else {
            for o in 0..outer {
                for a in 0..len {
                    let p = ((if per_axis { 0 } else { o }) * blocks + a / block) * if per_axis { 1 } else { inner };
                    let x = (o * len + a) * inner;
                    for i in 0..inner {
                        let q = if per_axis { p } else { p + i };
                        out.push((xs[x + i] - zero_points[q]) * scales[q]);
                    }
                }
            }
        }
        out
    };

    Ok(TensorProto {
        name: node.output[0].clone(),
        dims: shape.iter().map(|&d| d as i64).collect(),
        data_type: DataType::Float as i32,
        float_data: values,
        ..Default::default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use tract_onnx::pb;

    fn int8(name: &str, dims: &[i64], v: &[i8]) -> TensorProto {
        TensorProto {
            name: name.into(),
            dims: dims.to_vec(),
            data_type: DataType::Int8 as i32,
            raw_data: v.iter().map(|&b| b as u8).collect(),
            ..Default::default()
        }
    }

    fn float(name: &str, dims: &[i64], v: &[f32]) -> TensorProto {
        TensorProto {
            name: name.into(),
            dims: dims.to_vec(),
            data_type: DataType::Float as i32,
            raw_data: v.iter().flat_map(|f| f.to_le_bytes()).collect(),
            ..Default::default()
        }
    }

    fn dq(block: i64, axis: i64) -> NodeProto {
        let attr = |name: &str, i| pb::AttributeProto {
            name: name.into(),
            i,
            r#type: pb::attribute_proto::AttributeType::Int as i32,
            ..Default::default()
        };
        NodeProto {
            op_type: "DequantizeLinear".into(),
            input: vec!["x".into(), "s".into(), "z".into()],
            output: vec!["y".into()],
            attribute: vec![attr("block_size", block), attr("axis", axis)],
            ..Default::default()
        }
    }

    #[test]
    fn blocked_along_axis_1_with_partial_last_block() {
        // 2×5 data, blocks of 2 along axis 1 → 3 scale columns, the last block holds one element.
        let x = int8("x", &[2, 5], &[1, 2, 3, 4, 5, -1, -2, -3, -4, -5]);
        let s = float("s", &[2, 3], &[1.0, 10.0, 100.0, 0.5, 0.25, 2.0]);
        let z = int8("z", &[2, 3], &[0, 1, 2, 0, -1, 1]);
        let t = dequantize(&dq(2, 1), &x, &s, Some(&z)).unwrap();
        let (shape, v) = load_f32(&t).unwrap();
        assert_eq!(shape, vec![2, 5]);
        assert_eq!(v, vec![1.0, 2.0, 20.0, 30.0, 300.0, -0.5, -1.0, -0.5, -0.75, -12.0]);
    }

    #[test]
    fn blocked_along_axis_0_of_a_vector() {
        let x = int8("x", &[4], &[1, 2, 3, 4]);
        let s = float("s", &[2], &[2.0, 3.0]);
        let z = int8("z", &[2], &[1, 0]);
        let t = dequantize(&dq(2, 0), &x, &s, Some(&z)).unwrap();
        assert_eq!(load_f32(&t).unwrap().1, vec![0.0, 2.0, 9.0, 12.0]);
    }

    #[test]
    fn blocked_along_axis_0_of_a_matrix_and_per_axis() {
        // 4×2 data, blocks of 2 rows: scale [2, 2].
        let x = int8("x", &[4, 2], &[1, 2, 3, 4, 5, 6, 7, 8]);
        let s = float("s", &[2, 2], &[1.0, 2.0, 3.0, 4.0]);
        let z = int8("z", &[2, 2], &[0, 0, 1, 1]);
        let t = dequantize(&dq(2, 0), &x, &s, Some(&z)).unwrap();
        assert_eq!(load_f32(&t).unwrap().1, vec![1.0, 4.0, 3.0, 8.0, 12.0, 20.0, 18.0, 28.0]);
        // Per-axis along axis 1 (no block_size): one scale per column.
        let x = int8("x", &[2, 2], &[1, 2, 3, 4]);
        let s = float("s", &[2], &[10.0, 100.0]);
        let z = int8("z", &[2], &[1, 0]);
        let node = NodeProto { attribute: vec![], ..dq(0, 1) };
        let t = dequantize(&node, &x, &s, Some(&z)).unwrap();
        assert_eq!(load_f32(&t).unwrap().1, vec![0.0, 200.0, 20.0, 400.0]);
    }

    #[test]
    fn folds_graph_and_prunes_stale_inputs() {
        let mut model = ModelProto {
            graph: Some(pb::GraphProto {
                node: vec![
                    dq(2, 1),
                    NodeProto {
                        op_type: "Add".into(),
                        input: vec!["in".into(), "y".into()],
                        output: vec!["out".into()],
                        ..Default::default()
                    },
                ],
                initializer: vec![int8("x", &[1, 2], &[1, 2]), float("s", &[1, 1], &[0.5]), int8("z", &[1, 1], &[0])],
                input: vec![
                    pb::ValueInfoProto { name: "in".into(), ..Default::default() },
                    pb::ValueInfoProto { name: "stale_weight".into(), ..Default::default() },
                ],
                ..Default::default()
            }),
            ..Default::default()
        };
        assert_eq!(fold_constant_dequantize(&mut model).unwrap(), 1);
        let g = model.graph.unwrap();
        assert_eq!(g.node.len(), 1);
        assert_eq!(g.initializer.iter().map(|t| t.name.as_str()).collect::<Vec<_>>(), vec!["y"]);
        assert_eq!(g.input.iter().map(|i| i.name.as_str()).collect::<Vec<_>>(), vec!["in"]);
        assert_eq!(load_f32(&g.initializer[0]).unwrap().1, vec![0.5, 1.0]);
    }
}
